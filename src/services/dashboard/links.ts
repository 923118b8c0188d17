import type { Mailer } from '../../ports/users.js';

export interface Delivery {
  /** True when the link went out by mail. */
  readonly sent: boolean;
  /** The link itself, only when no mail is configured: shown once to whoever asked for it. */
  readonly link?: string;
}

export interface LinkMail {
  readonly to: string;
  readonly subject: string;
  readonly text: (link: string) => string;
}

/**
 * Where one-time links go: by mail when SMTP is configured, else back to the caller (the CLI prints
 * it once; the inviter sees it once). Every link is built from server.public_url, never a Host header.
 */
export class LinkDelivery {
  constructor(
    private readonly publicUrl: () => string,
    private readonly mailer: Mailer | undefined,
    private readonly onError: (error: unknown) => void,
  ) {}

  get mails(): boolean {
    return this.mailer !== undefined;
  }

  url(path: string): string {
    return `${this.publicUrl()}${path}`;
  }

  async deliver(path: string, mail: LinkMail): Promise<Delivery> {
    const link = this.url(path);
    if (!this.mailer) return { sent: false, link };
    await this.mailer.send({ to: mail.to, subject: mail.subject, text: mail.text(link) });
    return { sent: true };
  }

  /**
   * Sends without waiting, for answers that must take the same time whether or not the email has an
   * account (sign-up, reset requests). Without SMTP nothing is sent: the link reaches nobody.
   */
  sendInBackground(path: string | undefined, mail: LinkMail): void {
    if (!this.mailer) return;
    const text = mail.text(path === undefined ? this.publicUrl() : this.url(path));
    this.mailer.send({ to: mail.to, subject: mail.subject, text }).catch(this.onError);
  }
}
