import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../server/logger.ts';

/** A real pino logger writing into memory, so tests can read what would have been logged. */
export function memoryLogger(options: { level?: string; secrets?: string[] } = {}): {
  logger: Logger;
  output: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level: options.level ?? 'debug', secrets: options.secrets ?? [], destination });
  return { logger, output: () => chunks.join('') };
}

export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}
