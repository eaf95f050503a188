/**
 * Helpers for tests that need real services (Postgres) or real files
 * (SQLite). Each run owns its data: a fresh temp directory or a fresh
 * Postgres schema or database, removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The machine's Postgres: trust auth, database `test`. */
const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/test';

export function postgresUrl(): string {
  return process.env.TEST_POSTGRES_URL ?? defaultPostgresUrl;
}

/**
 * Whether a service the suite needs is up. In CI a missing service fails the
 * run, so a broken setup cannot pass as green; locally the suite skips with a
 * loud warning. Use the answer with `describe.skipIf(!available)`.
 */
export async function requireService(name: string, check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    if (process.env.CI) throw new Error(`${name} is required in CI but is not available`, { cause: error });
    const line = '!'.repeat(72);
    console.warn(`\n${line}\n  ${name} is not available: its tests are SKIPPED.\n  ${String(error)}\n${line}\n`);
    return false;
  }
}

export function checkPostgres(url = postgresUrl()): Promise<void> {
  return withPostgresClient(url, async (client) => {
    await client.query('select 1');
  });
}

/** The machine's Redis. */
export function redisUrl(): string {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export async function checkRedis(url = redisUrl()): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

export interface TemporaryPostgresSchema {
  /** Pass to openChatStore as `postgresSchema`. */
  schema: string;
  drop(): Promise<void>;
}

export async function createPostgresSchema(url = postgresUrl()): Promise<TemporaryPostgresSchema> {
  const schema = `parley_test_${randomBytes(6).toString('hex')}`;
  await withPostgresClient(url, (client) => client.query(`create schema ${schema}`));
  return {
    schema,
    drop: () =>
      withPostgresClient(url, async (client) => {
        await client.query(`drop schema if exists ${schema} cascade`);
      }),
  };
}

export interface TemporaryPostgresDatabase {
  /** A DATABASE_URL for it, for Parley processes, which cannot be given a schema. */
  url: string;
  drop(): Promise<void>;
}

/** A database of its own, for suites that run Parley as `npm start` does; dropped with any connection still open. */
export async function createPostgresDatabase(url = postgresUrl()): Promise<TemporaryPostgresDatabase> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  await withPostgresClient(url, (client) => client.query(`create database ${name}`));
  const databaseUrl = new URL(url);
  databaseUrl.pathname = `/${name}`;
  return {
    url: databaseUrl.toString(),
    drop: () =>
      withPostgresClient(url, async (client) => {
        await client.query(`drop database if exists ${name} with (force)`);
      }),
  };
}

export interface TemporarySqliteFile {
  /** In a directory that does not exist yet, so opening also covers creating it. */
  path: string;
  /** Removes the database with its -wal and -shm files. */
  remove(): Promise<void>;
}

export async function temporarySqliteFile(): Promise<TemporarySqliteFile> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'parley-test-'));
  return {
    path: path.join(directory, 'data', 'parley.db'),
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

async function withPostgresClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
