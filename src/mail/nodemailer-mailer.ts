import type { Transporter } from 'nodemailer';
import type { Mailer, MailMessage } from '../ports/users.js';

/**
 * Mail through SMTP. The URL comes from the configuration (without a password); the password from
 * the environment, added here so that it never sits in the file or in a log line. nodemailer is
 * loaded on the first message: most processes (the CLI's other commands) never send one.
 */
export class NodemailerMailer implements Mailer {
  private transport: Promise<Transporter> | undefined;

  constructor(
    private readonly smtpUrl: string,
    private readonly password: string | undefined,
    private readonly from: string,
  ) {}

  private connect(): Promise<Transporter> {
    this.transport ??= import('nodemailer').then(({ createTransport }) => {
      const url = new URL(this.smtpUrl);
      if (this.password !== undefined) url.password = encodeURIComponent(this.password);
      return createTransport(url.toString());
    });
    return this.transport;
  }

  async send(message: MailMessage): Promise<void> {
    const transport = await this.connect();
    await transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  }

  close(): void {
    this.transport?.then((transport) => transport.close()).catch(() => {});
  }
}
