/** Whether this instance can serve: the database answers and holds every migration (/readyz). */
export type Readiness = { readonly ok: true } | { readonly ok: false; readonly reason: string };
