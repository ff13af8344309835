import { Global, Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import type { AppConfig } from '../../config/app-config';
import { JwtStrategy } from './jwt.strategy';
import { STREAM_TICKETS, StreamTickets } from './stream-tickets';

@Global()
@Module({})
export class AuthModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AuthModule,
      imports: [PassportModule.register({ session: false })],
      providers: [
        JwtStrategy,
        {
          provide: STREAM_TICKETS,
          useValue: new StreamTickets(
            config.webhooks.encryptionKey,
            config.events.ticketTtlSeconds,
          ),
        },
      ],
      exports: [STREAM_TICKETS],
    };
  }
}
