export interface SystemDependency {
  readonly debianPackage: string;
  readonly path: string;
  readonly neededBy: string;
}

export const SYSTEM_DEPENDENCIES: readonly SystemDependency[];
export function missingDependencies(dependencies?: readonly SystemDependency[]): SystemDependency[];
export function installAdvice(dependency: SystemDependency): string;
export function ensureSystemDependencies(): SystemDependency[];
/** The newest `/usr/lib/postgresql/<version>/bin` with initdb in it, if any. */
export function postgresBinDir(): string | undefined;
