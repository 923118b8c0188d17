/**
 * The schema rules the fake Gemini enforces, from Google's API reference.
 *
 * `parameters` and `responseSchema` are Google's Schema message (an OpenAPI 3.0 subset). A key the
 * message lacks fails JSON parsing on Google's side, with exactly this error:
 * `Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters': Cannot find field.`
 *
 * `parametersJsonSchema` and `responseJsonSchema` take JSON Schema, of which Google documents the
 * keywords it supports, and that a `$ref` may have no sibling but `$` keywords. The fake refuses
 * anything outside that list (Gemini may ignore some of it instead: refusing is the stricter test
 * of what Tollgate sends); the wording of that refusal is the fake's own.
 */
type Json = Record<string, unknown>;

export interface SchemaProblem {
  readonly field: string;
  readonly message: string;
}

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const SCHEMA_MESSAGE_FIELDS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

const JSON_SCHEMA_KEYWORDS = new Set([
  '$id',
  '$defs',
  '$ref',
  '$anchor',
  'type',
  'format',
  'title',
  'description',
  'enum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'anyOf',
  'oneOf',
  'properties',
  'additionalProperties',
  'required',
  'propertyOrdering',
]);

function unknownName(key: string, at: string): SchemaProblem {
  return {
    field: at,
    message: `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`,
  };
}

/** Google's Schema message: every key must be one of its fields, recursively. */
function schemaMessageProblem(schema: unknown, at: string): SchemaProblem | undefined {
  if (!isRecord(schema)) return undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (!SCHEMA_MESSAGE_FIELDS.has(key)) return unknownName(key, at);
    if (key === 'type' && typeof value !== 'string') {
      return {
        field: `${at}.type`,
        message: `Invalid JSON payload received. Proto field is not repeating, cannot start list. at '${at}.type'`,
      };
    }
  }
  const nested: [unknown, string][] = [];
  if (isRecord(schema.properties)) {
    Object.values(schema.properties).forEach((value, i) => {
      nested.push([value, `${at}.properties[${i}].value`]);
    });
  }
  if (schema.items !== undefined) nested.push([schema.items, `${at}.items`]);
  if (Array.isArray(schema.anyOf)) {
    for (const [i, value] of schema.anyOf.entries()) nested.push([value, `${at}.any_of[${i}]`]);
  }
  for (const [value, where] of nested) {
    const problem = schemaMessageProblem(value, where);
    if (problem) return problem;
  }
  return undefined;
}

/** Google's documented JSON Schema subset, recursively. */
function jsonSchemaProblem(schema: unknown, at: string): SchemaProblem | undefined {
  if (typeof schema === 'boolean' || !isRecord(schema)) return undefined;
  const hasRef = '$ref' in schema;
  for (const key of Object.keys(schema)) {
    if (!JSON_SCHEMA_KEYWORDS.has(key)) {
      return { field: at, message: `Invalid JSON Schema at '${at}': "${key}" is not supported.` };
    }
    if (hasRef && !key.startsWith('$')) {
      return { field: at, message: `Invalid JSON Schema at '${at}': "${key}" may not be set beside "$ref".` };
    }
  }
  const nested: [unknown, string][] = [];
  for (const map of ['properties', '$defs'] as const) {
    const value = schema[map];
    if (isRecord(value))
      for (const [name, sub] of Object.entries(value)) nested.push([sub, `${at}.${map}.${name}`]);
  }
  for (const single of ['items', 'additionalProperties'] as const) {
    if (schema[single] !== undefined) nested.push([schema[single], `${at}.${single}`]);
  }
  for (const list of ['prefixItems', 'anyOf', 'oneOf'] as const) {
    const value = schema[list];
    if (!Array.isArray(value)) continue;
    for (const [i, sub] of value.entries()) nested.push([sub, `${at}.${list}[${i}]`]);
  }
  for (const [value, where] of nested) {
    const problem = jsonSchemaProblem(value, where);
    if (problem) return problem;
  }
  return undefined;
}

/** The first schema Gemini would refuse in a generateContent request, if any. */
export function findSchemaProblem(body: Json): SchemaProblem | undefined {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  for (const [i, tool] of tools.entries()) {
    const declarations =
      isRecord(tool) && Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations : [];
    for (const [j, declaration] of declarations.entries()) {
      if (!isRecord(declaration)) continue;
      const at = `tools[${i}].function_declarations[${j}]`;
      if (declaration.parameters !== undefined && declaration.parametersJsonSchema !== undefined) {
        return {
          field: at,
          message: `Invalid value at '${at}': parameters and parameters_json_schema are mutually exclusive.`,
        };
      }
      const problem =
        schemaMessageProblem(declaration.parameters, `${at}.parameters`) ??
        jsonSchemaProblem(declaration.parametersJsonSchema, `${at}.parameters_json_schema`);
      if (problem) return problem;
    }
  }
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  if (config.responseJsonSchema !== undefined && config.responseMimeType !== 'application/json') {
    return {
      field: 'generation_config.response_mime_type',
      message: 'response_mime_type must be application/json when response_json_schema is set.',
    };
  }
  return (
    schemaMessageProblem(config.responseSchema, 'generation_config.response_schema') ??
    jsonSchemaProblem(config.responseJsonSchema, 'generation_config.response_json_schema')
  );
}
