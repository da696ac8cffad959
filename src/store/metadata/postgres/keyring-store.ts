import { KeyringStore, StoredKeyring } from '../keyring-types.js';
import { PostgresDatabase } from './database.js';

interface Row {
  root_kind: string;
  root_description: string;
  wrapped: Buffer;
  generation: string | number;
  active_key_id: string | number;
  updated_at: string | number;
}

/** The keyring row in PostgreSQL (migration 014): every write one statement, compare-and-swap on the generation. */
export class PostgresKeyringStore implements KeyringStore {
  constructor(private readonly database: PostgresDatabase) {}

  async get(): Promise<StoredKeyring | undefined> {
    const { rows } = await this.database.query<Row>('SELECT root_kind, root_description, wrapped, generation, active_key_id, updated_at FROM keyring WHERE id = 1');
    const r = rows[0];
    return (
      r && {
        rootKind: r.root_kind,
        rootDescription: r.root_description,
        wrapped: r.wrapped,
        generation: Number(r.generation),
        activeKeyId: Number(r.active_key_id),
        updatedAt: Number(r.updated_at),
      }
    );
  }

  async generation(): Promise<number | undefined> {
    const { rows } = await this.database.query<{ generation: string }>('SELECT generation FROM keyring WHERE id = 1');
    return rows[0] && Number(rows[0].generation);
  }

  async create(k: Omit<StoredKeyring, 'generation'>): Promise<boolean> {
    const { rowCount } = await this.database.query(
      `INSERT INTO keyring (id, root_kind, root_description, wrapped, generation, active_key_id, updated_at)
       VALUES (1, $1, $2, $3, 1, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [k.rootKind, k.rootDescription, k.wrapped, k.activeKeyId, k.updatedAt],
    );
    return rowCount === 1;
  }

  async replace(k: Omit<StoredKeyring, 'generation'>, expectedGeneration: number): Promise<boolean> {
    const { rowCount } = await this.database.query(
      `UPDATE keyring SET root_kind = $1, root_description = $2, wrapped = $3, generation = generation + 1, active_key_id = $4, updated_at = $5
       WHERE id = 1 AND generation = $6`,
      [k.rootKind, k.rootDescription, k.wrapped, k.activeKeyId, k.updatedAt, expectedGeneration],
    );
    return rowCount === 1;
  }
}
