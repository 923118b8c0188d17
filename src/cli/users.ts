import type { Command } from 'commander';
import { isRole, ROLES, type Role } from '../domain/roles.js';
import type { Delivery } from '../services/dashboard/links.js';
import { type GlobalOptions, withServices } from './context.js';
import { print, UsageError } from './output.js';

function parseRole(text: string): Role {
  if (!isRole(text)) throw new UsageError(`--role: expected ${ROLES.join(', ')}, got "${text}"`);
  return text;
}

/** One line from stdin: the password, never an argument (arguments show in `ps` and shell history). */
async function readPasswordLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  if (line === '') throw new UsageError('--password-stdin: no password on standard input');
  return line;
}

/** The link is printed once, here, for the operator to pass on; it is never logged or stored. */
function describeDelivery(delivery: Delivery | undefined, email: string, what: string): string {
  if (!delivery) return '';
  if (delivery.sent) return `\nA ${what} link was sent to ${email}.`;
  return `\n${what[0]?.toUpperCase()}${what.slice(1)} link for ${email} (works once; shown only now):\n\n  ${delivery.link}\n`;
}

export function registerUserCommands(program: Command, globals: () => GlobalOptions): void {
  const users = program.command('users').description('people who sign in to the dashboard');

  users
    .command('create')
    .description('create a user; prints a one-time set-password link (or mails it with mail.smtp_url)')
    .requiredOption('--email <email>', 'the address they sign in with')
    .option('--account <accountId>', 'make them a member of this account')
    .option('--role <role>', `their role in --account: ${ROLES.join(', ')}`, 'owner')
    .option('--operator', 'an operator of this Tollgate (the operator console)')
    .option('--password-stdin', 'set the password from one line of standard input instead of sending a link')
    .action(
      async (options: {
        email: string;
        account?: string;
        role: string;
        operator?: boolean;
        passwordStdin?: boolean;
      }) => {
        const role = parseRole(options.role);
        const password = options.passwordStdin ? await readPasswordLine() : undefined;
        const result = await withServices(globals(), async (s) =>
          (await s.dashboard()).userAdmin.create({
            email: options.email,
            operator: options.operator === true,
            ...(options.account ? { membership: { accountId: options.account, role } } : {}),
            ...(password === undefined ? {} : { password }),
          }),
        );
        if (!result.ok) throw new UsageError(result.error);
        const { user, delivery } = result.value;
        print(
          globals().json,
          {
            user: { id: user.id, email: user.email, operator: user.operator },
            ...(options.account ? { membership: { account_id: options.account, role } } : {}),
            ...(delivery?.link ? { link: delivery.link } : {}),
            ...(delivery?.sent ? { mailed: true } : {}),
          },
          () =>
            `created user ${user.id} (${user.email})${user.operator ? ', operator' : ''}${options.account ? `, ${role} of ${options.account}` : ''}${describeDelivery(delivery, user.email, 'set-password')}`,
        );
      },
    );

  users
    .command('invite')
    .description('invite someone to an account; prints the one-time invite link (or mails it)')
    .requiredOption('--email <email>', 'who to invite')
    .requiredOption('--account <accountId>', 'the account')
    .requiredOption('--role <role>', ROLES.join(', '))
    .action(async (options: { email: string; account: string; role: string }) => {
      const role = parseRole(options.role);
      const result = await withServices(globals(), async (s) =>
        (await s.dashboard()).userAdmin.invite(options.email, options.account, role),
      );
      if (!result.ok) throw new UsageError(result.error);
      const delivery = result.value;
      print(
        globals().json,
        {
          invite: {
            id: delivery.inviteId,
            email: options.email.trim().toLowerCase(),
            role,
            account_id: options.account,
          },
          ...(delivery.link ? { link: delivery.link } : {}),
          ...(delivery.sent ? { mailed: true } : {}),
        },
        () =>
          `invited ${options.email} to ${options.account} as ${role}${describeDelivery(delivery, options.email, 'invite')}`,
      );
    });

  users
    .command('reset-password')
    .description('a one-time password-reset link for a user (printed, or mailed)')
    .requiredOption('--email <email>', 'the user')
    .action(async (options: { email: string }) => {
      const result = await withServices(globals(), async (s) =>
        (await s.dashboard()).userAdmin.resetPassword(options.email),
      );
      if (!result.ok) throw new UsageError(result.error);
      const { user, delivery } = result.value;
      print(
        globals().json,
        {
          user: { id: user.id, email: user.email },
          ...(delivery.link ? { link: delivery.link } : {}),
          ...(delivery.sent ? { mailed: true } : {}),
        },
        () => `password reset for ${user.email}${describeDelivery(delivery, user.email, 'reset')}`,
      );
    });
}
