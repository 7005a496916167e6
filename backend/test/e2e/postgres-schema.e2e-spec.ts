import fs from 'node:fs';
import { POSTGRES_SCHEMA, renderPostgresSchema, SQLITE_SCHEMA } from '../../scripts/generate-postgres-schema';

describe('PostgreSQL schema', () => {
  it('is exactly what the generator derives from the SQLite schema (run npm run db:generate-postgres after a change)', () => {
    expect(fs.readFileSync(POSTGRES_SCHEMA, 'utf8')).toBe(
      renderPostgresSchema(fs.readFileSync(SQLITE_SCHEMA, 'utf8')),
    );
  });

  it('has a migration for every model of the schema', () => {
    const schema = fs.readFileSync(POSTGRES_SCHEMA, 'utf8');
    const models = [...schema.matchAll(/^model (\w+) \{/gm)].map((m) => m[1]);
    const migrations = fs
      .readdirSync(`${__dirname}/../../prisma/postgres/migrations`, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) =>
        fs.readFileSync(`${__dirname}/../../prisma/postgres/migrations/${d.name}/migration.sql`, 'utf8'),
      )
      .join('\n');
    for (const model of models) expect(migrations).toContain(`CREATE TABLE "${model}"`);
  });
});
