import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('config', () => {
  it('needs nothing: the embedded default', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.QUEUE).toBe('embedded');
    expect(config.store).toEqual({ kind: 'sqlite', file: './data/support-agent.sqlite' });
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('picks PostgreSQL for DATABASE_URL, Redis for REDIS_URL alone', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/d', REDIS_URL: 'redis://h:6379' }).store.kind).toBe(
      'postgres',
    );
    expect(loadConfig({ REDIS_URL: 'redis://h:6379' }).store.kind).toBe('redis');
    expect(loadConfig({ DATA_DIR: '/var/lib/agent/' }).store).toEqual({
      kind: 'sqlite',
      file: '/var/lib/agent/support-agent.sqlite',
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', QUEUE: '', DATABASE_URL: '' }).store.kind).toBe('sqlite');
  });

  it('names every bad key in one error, without echoing secret values', () => {
    let error: unknown;
    try {
      loadConfig({
        DATABASE_URL: 'mysql://root:pa55word@db/x',
        QUEUE: 'kafka',
        PORT: '99999',
        ZENDESK_SUBDOMAIN: 'acme',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((problem) => problem.key).sort();
    expect(problems).toEqual(['DATABASE_URL', 'PORT', 'QUEUE', 'ZENDESK_API_TOKEN', 'ZENDESK_EMAIL']);
    expect((error as Error).message).toMatch(/QUEUE: must be one of embedded, bullmq/);
    expect((error as Error).message).not.toContain('pa55word');
  });

  it('requires REDIS_URL for QUEUE=bullmq', () => {
    expect(() => loadConfig({ QUEUE: 'bullmq' })).toThrow(/REDIS_URL: is required when QUEUE=bullmq/);
    expect(loadConfig({ QUEUE: 'bullmq', REDIS_URL: 'redis://127.0.0.1:6379' }).QUEUE).toBe('bullmq');
  });
});
