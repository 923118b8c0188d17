/** The two databases Tollgate runs on; a migration whose SQL differs between them is told which. */
export type DatabaseKind = 'sqlite' | 'postgres';
