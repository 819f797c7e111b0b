import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcholoopDb, definitions, type DictionaryEntry, type Json } from '../../../db';
import { DEFINITION_TTL_MS, lookUp } from './dictionary';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`dictionary-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

const entry: DictionaryEntry = {
  word: 'house',
  language: 'en',
  ipa: 'haʊs',
  parts_of_speech: ['n'],
  senses: [{ to: 'de', part_of_speech: 'n', definitions: ['Haus'], source: 'freedict' }],
};
const T0 = 1_800_000_000_000;

// In Node, `/api/v1/…` has no origin to reach: every request fails as a network failure does (offline).
describe('looking a word up without the server', () => {
  it('answers a fresh copy from the device without asking', async () => {
    await definitions.putDefinition(db, 'house', 'en:de', entry as unknown as Json, DEFINITION_TTL_MS, T0);
    expect(await lookUp(db, 'house', 'en', 'de', T0 + 1000)).toEqual({ kind: 'found', entry });
  });

  it('offline, answers an expired copy as such, and says so when there is none', async () => {
    await definitions.putDefinition(db, 'house', 'en:de', entry as unknown as Json, DEFINITION_TTL_MS, T0);
    const later = T0 + DEFINITION_TTL_MS + 1;
    expect(await lookUp(db, 'house', 'en', 'de', later)).toEqual({ kind: 'found', entry, staleSince: T0 + DEFINITION_TTL_MS });
    expect(await lookUp(db, 'house', 'en', 'fr', T0)).toEqual({ kind: 'offline' });
    expect(await lookUp(db, 'tree', 'en', 'de', T0)).toEqual({ kind: 'offline' });
  });
});
