/** Released empty (a placeholder); the IAM schema is migration 005. Never edit a released migration. */
export const M003_IAM = `
`;
