import type { ModelConfig } from '../config/load-config.js';

/** The models the operator sells, found by public id or alias. */
export class ModelCatalogue {
  private readonly byName = new Map<string, ModelConfig>();

  constructor(readonly models: readonly ModelConfig[]) {
    for (const model of models) {
      this.byName.set(model.id, model);
      for (const alias of model.aliases) this.byName.set(alias, model);
    }
  }

  find(name: string): ModelConfig | undefined {
    return this.byName.get(name);
  }
}
