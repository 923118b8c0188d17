import type { Plan, PlanKind } from '../../domain/plans.js';

/** The operator's plans, by id. */
export class PlanCatalogue {
  private readonly byId: ReadonlyMap<string, Plan>;

  constructor(readonly plans: readonly Plan[]) {
    this.byId = new Map(plans.map((plan) => [plan.id, plan]));
  }

  find(id: string): Plan | undefined {
    return this.byId.get(id);
  }

  /** The plan if it exists and is of the kind asked for. */
  ofKind<K extends PlanKind>(id: string | undefined, kind: K): Extract<Plan, { kind: K }> | undefined {
    const plan = id === undefined ? undefined : this.byId.get(id);
    return plan?.kind === kind ? (plan as Extract<Plan, { kind: K }>) : undefined;
  }
}
