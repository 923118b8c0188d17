import { describe, expect, it } from 'vitest';
import { toGeminiJsonSchema } from './json-schema.js';

describe('a JSON Schema for Gemini’s JSON Schema fields', () => {
  it('keeps what Google documents (additionalProperties, anyOf, $ref, lists of types) and drops the rest', () => {
    expect(
      toGeminiJsonSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 20, pattern: '^[a-z]+$' },
          tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, maxItems: 3 },
          unit: { anyOf: [{ type: 'string', enum: ['c', 'f'] }, { type: 'null' }], default: null },
          size: { type: ['number', 'null'], exclusiveMinimum: 0, multipleOf: 0.5 },
        },
        required: ['name'],
        additionalProperties: false,
        examples: [{ name: 'x' }],
      }),
    ).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        unit: { anyOf: [{ type: 'string', enum: ['c', 'f'] }, { type: 'null' }] },
        size: { type: ['number', 'null'] },
      },
      required: ['name'],
      additionalProperties: false,
    });
  });

  it('does not mistake a property named like a keyword for the keyword', () => {
    expect(
      toGeminiJsonSchema({
        type: 'object',
        properties: { pattern: { type: 'string' }, default: { type: 'integer' } },
      }),
    ).toEqual({ type: 'object', properties: { pattern: { type: 'string' }, default: { type: 'integer' } } });
  });

  it('moves draft-07 definitions to $defs and leaves a $ref alone, as Google requires', () => {
    expect(
      toGeminiJsonSchema({
        type: 'object',
        properties: { when: { $ref: '#/definitions/when', description: 'Moment' } },
        definitions: { when: { type: 'string', format: 'date-time' } },
      }),
    ).toEqual({
      type: 'object',
      properties: { when: { $ref: '#/$defs/when' } },
      $defs: { when: { type: 'string', format: 'date-time' } },
    });
  });

  it('maps const, OpenAPI’s nullable, allOf and draft-07 tuples to what Gemini supports', () => {
    expect(
      toGeminiJsonSchema({
        allOf: [
          { type: 'object', properties: { a: { const: 'x' } }, required: ['a'] },
          { properties: { b: { type: 'string', nullable: true } }, required: ['b'] },
        ],
        description: 'both',
      }),
    ).toEqual({
      description: 'both',
      type: 'object',
      properties: { a: { enum: ['x'] }, b: { type: ['string', 'null'] } },
      required: ['a', 'b'],
    });
    expect(toGeminiJsonSchema({ type: 'array', items: [{ type: 'string' }, { type: 'number' }] })).toEqual({
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'number' }],
    });
  });
});
