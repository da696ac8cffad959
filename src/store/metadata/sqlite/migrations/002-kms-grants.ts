/** Released empty (a placeholder); the grants schema is migration 004. Never edit a released migration. */
export const M002_KMS_GRANTS = `
`;
