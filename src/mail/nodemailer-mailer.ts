import { createTransport, type Transporter } from 'nodemailer';
import type { Mailer, MailMessage } from '../ports/users.js';

/**
 * Mail through SMTP. The URL comes from the configuration (without a password); the password from
 * the environment, added here so that it never sits in the file or in a log line.
 */
export class NodemailerMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    password: string | undefined,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    if (password !== undefined) url.password = password;
    this.transport = createTransport(url.toString());
  }

  async send(message: MailMessage): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  }

  close(): void {
    this.transport.close();
  }
}
