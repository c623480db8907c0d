import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

/** What accelctl remembers between runs (`accelctl login` writes it, mode 0600). */
export interface StoredSettings {
  server?: string;
  token?: string;
  addr?: string;
}

export function settingsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ACCELCTL_CONFIG) return env.ACCELCTL_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'accelctl', 'config.yaml');
}

export function readSettings(path = settingsPath()): StoredSettings {
  try {
    return (parse(readFileSync(path, 'utf8')) as StoredSettings) ?? {};
  } catch {
    return {};
  }
}

export function writeSettings(settings: StoredSettings, path = settingsPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, stringify(settings), { mode: 0o600 });
}
