/**
 * KMS descriptions and tags as UTF-8 bytes (bytea). PostgreSQL's text cannot hold U+0000, and KMS lets both
 * carry any Unicode (DescriptionType, TagKeyType and TagValueType have no pattern in the KMS model), which
 * SQLite keeps; bytea keeps it too, and orders tag keys byte for byte as the C collation (and SQLite) did.
 */
export const P004_KMS_TEXT_BYTES = `
  ALTER TABLE kms_keys ALTER COLUMN description TYPE bytea USING convert_to(description, 'UTF8');
  ALTER TABLE kms_tags
    ALTER COLUMN tag_key TYPE bytea USING convert_to(tag_key, 'UTF8'),
    ALTER COLUMN tag_value TYPE bytea USING convert_to(tag_value, 'UTF8');
`;
