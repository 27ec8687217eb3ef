// Checks an email's HTML against Can I Email data, offline: node check.mjs FILE [CLIENTS]
// Prints doiuse-email's JSON result ({success, errors, warnings, notes}); exits 1 on errors.
import { readFileSync } from 'node:fs';
import { doIUseEmail } from 'doiuse-email';

const [file, clients = 'gmail.*,outlook.*'] = process.argv.slice(2);
const result = doIUseEmail(readFileSync(file, 'utf8'), { emailClients: clients.split(',') });
process.stdout.write(JSON.stringify(result));
process.exitCode = result.success ? 0 : 1;
