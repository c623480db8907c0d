import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { GatewayConfig, SourceRegistryConfig } from './schema';

export class ConfigError extends Error {}

type Plain = Record<string, unknown>;

/** A key's letters and digits, lower case: `WORK_DIR`, `work_dir` and `workDir` are the same key. */
const normal = (s: string) => s.replace(/_/g, '').toLowerCase();

/** Maps in the schema, by path, and the shape of their values (a string map has none). */
const MAP_VALUES: Record<string, () => object | undefined> = {
  'provider.source': () => new SourceRegistryConfig(),
  'converter.driver.config': () => undefined,
};

/**
 * The schema's own spelling of each path segment (camelCase keys and acceld's snake_case ones
 * alike). A map's keys are taken as written, lower case (registry hosts, acceld's driver
 * options); a segment the schema does not list (an optional field) is camel-cased.
 */
function schemaPath(segments: string[]): string[] {
  let shape: unknown = new GatewayConfig();
  const path: string[] = [];
  for (const seg of segments) {
    const parent = path.join('.');
    let key: string;
    if (parent in MAP_VALUES) {
      key = seg.toLowerCase();
      shape = MAP_VALUES[parent]();
    } else {
      key = (isPlain(shape) ? Object.keys(shape).find((k) => normal(k) === normal(seg)) : undefined) ?? camel(seg);
      shape = isPlain(shape) ? shape[key] : undefined;
    }
    path.push(key);
  }
  return path;
}

/** Environment overrides: ACCEL__SECTION__KEY=value, e.g. ACCEL__DATABASE__HOST=db. Values parse as YAML scalars. */
export function envOverrides(env: NodeJS.ProcessEnv): Plain {
  const out: Plain = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('ACCEL__') || raw === undefined) continue;
    const path = schemaPath(name.slice('ACCEL__'.length).split('__').filter(Boolean));
    if (path.length === 0) continue;
    let node = out;
    for (const key of path.slice(0, -1)) {
      node[key] = isPlain(node[key]) ? node[key] : {};
      node = node[key] as Plain;
    }
    node[path[path.length - 1]] = parseScalar(raw);
  }
  return out;
}

function camel(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseScalar(raw: string): unknown {
  if (raw === '') return '';
  try {
    return parse(raw);
  } catch {
    return raw;
  }
}

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  }
  return out;
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const key = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${key}: ${m.replace(e.property, key)}`);
    return [...own, ...flatten(e.children ?? [], key)];
  });
}

/** Builds and validates the configuration from plain data; throws ConfigError naming every bad key. */
export function buildConfig(data: Plain): GatewayConfig {
  // Implicit conversion turns an environment value like PASSWORD=1234 into the string the field wants.
  const config = plainToInstance(GatewayConfig, data, { exposeDefaultValues: true, enableImplicitConversion: true });
  const errors = flatten(validateSync(config, { whitelist: true, forbidNonWhitelisted: true }));
  // provider.source is a map keyed by host: its values are validated one by one.
  const sources: Record<string, SourceRegistryConfig> = {};
  for (const [host, value] of Object.entries(config.provider?.source ?? {})) {
    const source = plainToInstance(SourceRegistryConfig, value ?? {}, {
      exposeDefaultValues: true,
      enableImplicitConversion: true,
    });
    errors.push(
      ...flatten(validateSync(source, { whitelist: true, forbidNonWhitelisted: true }), `provider.source.${host}`),
    );
    sources[host.toLowerCase()] = source;
  }
  if (errors.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${errors.join('\n  ')}`);
  }
  config.provider.source = sources;
  return config;
}

/** Loads the YAML file (if any), applies ACCEL__* environment overrides and validates the result. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let data: Plain = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read configuration file ${file}: ${(e as Error).message}`);
    }
    try {
      const parsed: unknown = parse(text) ?? {};
      if (!isPlain(parsed)) throw new Error('top level must be a mapping');
      data = parsed;
    } catch (e) {
      throw new ConfigError(`configuration file ${file} is not valid YAML: ${(e as Error).message}`);
    }
  }
  return buildConfig(deepMerge(data, envOverrides(env)));
}
