import { formatUsd } from '../domain/money.js';
import type { AgentLimit, Plan } from '../domain/plans.js';

function limitJson(limit: AgentLimit) {
  return {
    window_hours: limit.windowMs / 3_600_000,
    requests: limit.requests ?? null,
    usd: limit.usd === undefined ? null : formatUsd(limit.usd),
  };
}

export function planJson(plan: Plan) {
  return plan.kind === 'inference'
    ? { id: plan.id, kind: plan.kind, name: plan.name, monthly_budget_usd: formatUsd(plan.monthlyBudget) }
    : { id: plan.id, kind: plan.kind, name: plan.name, agent_limits: plan.agentLimits.map(limitJson) };
}

export function describeLimit(limit: AgentLimit): string {
  const parts: string[] = [];
  if (limit.requests !== undefined) parts.push(`${limit.requests} requests`);
  if (limit.usd !== undefined) parts.push(formatUsd(limit.usd));
  return `${parts.join(' and ')} per ${limit.windowMs / 3_600_000} h`;
}

export function describePlan(plan: Plan): string {
  return plan.kind === 'inference'
    ? `${plan.id}  inference  ${plan.name}  ${formatUsd(plan.monthlyBudget)} included per month`
    : `${plan.id}  chat  ${plan.name}  agent limits: ${plan.agentLimits.map(describeLimit).join(', ')}`;
}
