/** IAM users, groups, roles, policies and STS sessions (filled in by the IAM work; empty is a no-op). */
export const M003_IAM = `
`;
