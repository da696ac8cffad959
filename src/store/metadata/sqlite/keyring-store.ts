import { KeyringStore, StoredKeyring } from '../keyring-types.js';
import { SqliteDatabase } from './database.js';

interface Row {
  root_kind: string;
  root_description: string;
  wrapped: Buffer;
  generation: number;
  active_key_id: number;
  updated_at: number;
}

/** The keyring row in SQLite (migration 018); each write one BEGIN IMMEDIATE transaction, made durable before it resolves. */
export class SqliteKeyringStore implements KeyringStore {
  constructor(private readonly database: SqliteDatabase) {}

  async get(): Promise<StoredKeyring | undefined> {
    const r = this.database.stmt('SELECT root_kind, root_description, wrapped, generation, active_key_id, updated_at FROM keyring WHERE id = 1').get() as Row | undefined;
    return r && { rootKind: r.root_kind, rootDescription: r.root_description, wrapped: r.wrapped, generation: r.generation, activeKeyId: r.active_key_id, updatedAt: r.updated_at };
  }

  async generation(): Promise<number | undefined> {
    const r = this.database.stmt('SELECT generation FROM keyring WHERE id = 1').get() as { generation: number } | undefined;
    return r?.generation;
  }

  async create(k: Omit<StoredKeyring, 'generation'>): Promise<boolean> {
    const made = this.database.transaction(
      () =>
        this.database
          .stmt(
            `INSERT INTO keyring (id, root_kind, root_description, wrapped, generation, active_key_id, updated_at)
             VALUES (1, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING`,
          )
          .run(k.rootKind, k.rootDescription, k.wrapped, k.activeKeyId, k.updatedAt).changes === 1,
    );
    await this.database.durable();
    return made;
  }

  async replace(k: Omit<StoredKeyring, 'generation'>, expectedGeneration: number): Promise<boolean> {
    const done = this.database.transaction(
      () =>
        this.database
          .stmt(
            `UPDATE keyring SET root_kind = ?, root_description = ?, wrapped = ?, generation = generation + 1, active_key_id = ?, updated_at = ?
             WHERE id = 1 AND generation = ?`,
          )
          .run(k.rootKind, k.rootDescription, k.wrapped, k.activeKeyId, k.updatedAt, expectedGeneration).changes === 1,
    );
    await this.database.durable();
    return done;
  }
}
