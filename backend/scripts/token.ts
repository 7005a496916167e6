/* Prints a token for local use: npm run token -- <userId> [--admin] [--expires <seconds>] */
import { JwtService } from '@nestjs/jwt';
import { ConfigValidationError, loadConfig } from '../src/common/config/app-config';

function main(): void {
  const args = process.argv.slice(2);
  const userId = args.find((a) => !a.startsWith('--'));
  if (!userId) {
    console.error('usage: npm run token -- <userId> [--admin] [--expires <seconds>]');
    process.exit(2);
  }
  const expiresIndex = args.indexOf('--expires');
  const expiresIn = expiresIndex >= 0 ? Number(args[expiresIndex + 1]) : 12 * 3600;
  try {
    const config = loadConfig();
    const roles = args.includes('--admin') ? ['admin'] : [];
    console.log(
      new JwtService().sign(
        { sub: userId, roles },
        { secret: config.JWT_SECRET, algorithm: 'HS256', expiresIn },
      ),
    );
  } catch (error) {
    console.error(error instanceof ConfigValidationError ? error.message : error);
    process.exit(1);
  }
}

main();
