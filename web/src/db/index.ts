export { getDb, setDb, EcholoopDb, DB_NAME, LATEST_VERSION } from './database';
export type * from './schema';
export * as materials from './repositories/materials';
export * as recordings from './repositories/recordings';
export * as progress from './repositories/progress';
export * as blobs from './repositories/blobs';
export * as definitions from './repositories/definitions';
export * as outbox from './repositories/outbox';
export * as auth from './repositories/auth';
