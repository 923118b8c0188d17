import { isRecord, type Json } from '../openai-shapes.js';

/**
 * An OpenAI tool's `parameters` or a `response_format` schema, as Gemini's JSON Schema fields
 * (`parametersJsonSchema`, `responseJsonSchema`) accept it. Pure.
 *
 * Why those fields and not `parameters`/`responseSchema`: the latter are Google's own Schema
 * message, an OpenAPI 3.0 subset that refuses with 400 every key it lacks (`additionalProperties`,
 * `$schema`, `$ref`, `const`, a list of types…), so every strict OpenAI tool and every schema that
 * zod or the AI SDK produce would have to be rewritten by hand, and unions and references would
 * be lost. The JSON Schema fields take JSON Schema itself; Google documents the keywords they
 * support, and this keeps exactly those:
 * https://ai.google.dev/api/generate-content#generationconfig (responseJsonSchema).
 * Everything else is dropped (the model sees less guidance, never a refused request), and a few
 * common spellings are mapped to a supported one rather than lost.
 */
const SUPPORTED = new Set([
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

/** Google: "If `$ref` is set on a sub-schema, no other properties, except for those starting as a `$`, may be set." */
const KEPT_BESIDE_REF = new Set(['$ref', '$id', '$anchor', '$defs']);

/** Draft-07 definitions (zod-to-json-schema, older tools) are the same thing as `$defs`. */
function refTarget(ref: unknown): unknown {
  return typeof ref === 'string' ? ref.replace(/^#\/definitions\//, '#/$defs/') : ref;
}

function schemaMap(value: unknown): Json | undefined {
  if (!isRecord(value)) return undefined;
  const out: Json = {};
  for (const [name, schema] of Object.entries(value)) out[name] = convert(schema);
  return out;
}

function schemaList(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value.map(convert) : undefined;
}

/** `allOf` is not supported: its members' properties and requirements are merged into the node. */
function mergeAllOf(schema: Json): Json {
  const members = Array.isArray(schema.allOf) ? schema.allOf.filter(isRecord) : [];
  const { allOf: _, ...rest } = schema;
  if (members.length === 1 && Object.keys(rest).every((key) => key === 'description' || key === 'title')) {
    return { ...members[0], ...rest };
  }
  const merged: Json = { ...rest };
  for (const member of members) {
    if ('$ref' in member) continue;
    for (const [key, value] of Object.entries(member)) {
      if (key === 'properties' && isRecord(value)) {
        merged.properties = { ...(isRecord(merged.properties) ? merged.properties : {}), ...value };
      } else if (key === 'required' && Array.isArray(value)) {
        const required = Array.isArray(merged.required) ? merged.required : [];
        merged.required = [...new Set([...required, ...value])];
      } else if (!(key in merged)) {
        merged[key] = value;
      }
    }
  }
  return merged;
}

function convert(input: unknown): unknown {
  if (!isRecord(input)) return input;
  const schema = 'allOf' in input ? mergeAllOf(input) : input;
  const out: Json = {};
  const hasRef = '$ref' in schema;
  const definitions = { ...(isRecord(schema.definitions) ? schema.definitions : {}) };
  if (isRecord(schema.$defs)) Object.assign(definitions, schema.$defs);
  for (const [key, value] of Object.entries(schema)) {
    if (!SUPPORTED.has(key) || (hasRef && !KEPT_BESIDE_REF.has(key))) continue;
    switch (key) {
      case '$ref':
        out.$ref = refTarget(value);
        break;
      case '$defs':
        break;
      case 'properties':
        out.properties = schemaMap(value) ?? value;
        break;
      case 'items':
        // A draft-07 tuple (`items` as a list) is what `prefixItems` says now.
        if (Array.isArray(value)) out.prefixItems = schemaList(value);
        else out.items = convert(value);
        break;
      case 'prefixItems':
      case 'anyOf':
      case 'oneOf':
        out[key] = schemaList(value) ?? value;
        break;
      case 'additionalProperties':
        out.additionalProperties = convert(value);
        break;
      default:
        out[key] = value;
    }
  }
  if (Object.keys(definitions).length > 0) out.$defs = schemaMap(definitions);
  if (hasRef) return out;
  // A single allowed value is an enum of one; OpenAPI's `nullable` is a type that admits null.
  if ('const' in schema && !('enum' in out)) out.enum = [schema.const];
  if (schema.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

export function toGeminiJsonSchema(schema: unknown): unknown {
  return convert(schema);
}
