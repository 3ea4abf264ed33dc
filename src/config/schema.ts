/**
 * The JSON Schema of a whole pipelines.yaml, generated from the registered factories, for editors
 * (YAML language servers) and for `vigil components`.
 */
import type { Factory, JsonSchema } from '../component';
import { serviceSchema } from './validate';

const SECTION: Record<Factory['kind'], string> = {
  receiver: 'receivers', processor: 'processors', exporter: 'exporters', connector: 'connectors', extension: 'extensions',
};

export function pipelinesJsonSchema(factories: readonly Factory[]): JsonSchema {
  const sections: Record<string, JsonSchema> = {};
  for (const kind of Object.keys(SECTION) as Factory['kind'][]) {
    const patternProperties: Record<string, JsonSchema> = {};
    for (const f of factories.filter((x) => x.kind === kind)) {
      patternProperties[`^${f.type}(/.+)?$`] = { description: f.description, anyOf: [{ type: 'null' }, f.configSchema] };
    }
    sections[SECTION[kind]] = { type: 'object', additionalProperties: false, patternProperties };
  }
  const pipeline = {
    type: 'object',
    additionalProperties: false,
    required: ['receivers', 'exporters'],
    properties: {
      receivers: { type: 'array', items: { type: 'string' } },
      processors: { type: 'array', items: { type: 'string' } },
      exporters: { type: 'array', items: { type: 'string' } },
    },
  };
  const service = structuredClone(serviceSchema) as { properties: Record<string, JsonSchema> };
  service.properties.pipelines = { type: 'object', additionalProperties: false, patternProperties: { '^(traces|metrics|logs)(/.+)?$': pipeline } };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Vigil pipelines.yaml',
    type: 'object',
    additionalProperties: false,
    properties: { ...sections, service },
  };
}

export interface FieldDoc {
  path: string;
  type: string;
  default?: unknown;
  description?: string;
}

/** Flatten a component's config schema into documented fields (for `vigil components`). */
export function describeFields(schema: JsonSchema, prefix = ''): FieldDoc[] {
  const out: FieldDoc[] = [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [k, sub] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const t = sub.anyOf ? 'duration' : Array.isArray(sub.type) ? (sub.type as string[]).join('|') : sub.enum ? (sub.enum as unknown[]).map((v) => JSON.stringify(v)).join('|') : String(sub.type ?? 'any');
    out.push({ path, type: t, ...(sub.default !== undefined ? { default: sub.default } : {}), ...(sub.description ? { description: String(sub.description) } : {}) });
    if (sub.properties) out.push(...describeFields(sub, path));
    else if (sub.type === 'array' && (sub.items as JsonSchema | undefined)?.properties) out.push(...describeFields(sub.items as JsonSchema, `${path}[]`));
  }
  return out;
}
