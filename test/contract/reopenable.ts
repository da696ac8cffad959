/**
 * A store open on a fresh location (a SQLite data dir, a PostgreSQL schema), as the contract suites get it.
 * `reopen` closes every store open on that location and opens it again: what an acknowledged write left
 * behind is all the new store can see. `another` opens a second store on the same location while the first
 * stays open: what another process (or node) sees.
 */
export interface Reopenable<S> {
  readonly store: S;
  reopen(): Promise<S>;
  another(): Promise<S>;
}

/** Each implementation's test file passes one: a new, empty location per call. */
export type OpenFresh<S> = () => Promise<Reopenable<S>>;
