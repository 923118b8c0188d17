import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/**
 * One server process per SQLite database. The ledger decides balances in memory (sqlite-ledger.ts),
 * which is exact only while a single process spends from them; a second server on the same file
 * could overspend. The CLI may run beside the server: it only adds credits and changes keys, which
 * the server notices. A lock left by a process that died is taken over.
 */
export class ServerLockError extends Error {
  override readonly name = 'ServerLockError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireServerLock(databasePath: string): () => void {
  const file = `${databasePath}.server-lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new ServerLockError(
          `another Tollgate server (pid ${holder}) is serving ${databasePath}; a SQLite database is served by one process (if no server runs, delete ${file})`,
        );
      }
      unlinkSync(file);
    }
  }
  throw new ServerLockError(`could not take the server lock ${file}`);
}
