import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { Public } from '../platform/auth/decorators';
import { mintToken } from '../platform/auth/tokens';
import { DEMO_MEMBERS, DEMO_ORG_ID } from '../platform/dev/dev-seed';

export class DevTokenDto {
  @IsUUID()
  userId!: string;
}

/** Tokens minted here live as long as a development session needs (12 h). */
const DEV_TOKEN_SECONDS = 12 * 3600;

/**
 * The web app's sign-in picker in development: the demo members, and a token for one of them.
 * Registered only where the demo org is seeded (DEV_SEED, never in production), and left out of
 * the OpenAPI document: it is not part of the API.
 */
@ApiExcludeController()
@Public()
@Controller('dev')
export class DevSignInController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('members')
  members() {
    return DEMO_MEMBERS.map((m) => ({ orgId: DEMO_ORG_ID, ...m }));
  }

  @Post('tokens')
  @HttpCode(201)
  token(@Body() body: DevTokenDto) {
    const member = DEMO_MEMBERS.find((m) => m.userId === body.userId);
    const secret = this.config.auth.jwtSecret;
    if (!member || !secret) throw new NotFoundException('No demo member has this id.');
    const token = mintToken(
      secret,
      { sub: member.userId, orgId: DEMO_ORG_ID, role: member.role, name: member.displayName },
      {
        expiresInSeconds: DEV_TOKEN_SECONDS,
        issuer: this.config.auth.issuer,
        audience: this.config.auth.audience,
      },
    );
    return { token };
  }
}
