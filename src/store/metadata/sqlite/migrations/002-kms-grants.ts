/** KMS grants (filled in by the grants work; an empty migration is a no-op). */
export const M002_KMS_GRANTS = `
`;
