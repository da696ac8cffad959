import { RowDialect } from '../rows/row.js';

/** SQLite keeps JSON as its text and booleans as INTEGER 0/1. */
export const SQLITE_ROWS: RowDialect = {
  json: (v) => JSON.parse(String(v)),
  flag: (v) => Number(v) === 1,
};
