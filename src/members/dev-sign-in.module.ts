import { Module } from '@nestjs/common';
import { DevSignInController } from './dev-sign-in.controller';

/** The development sign-in (DevSignInController); AppModule imports it only when DEV_SEED is on. */
@Module({ controllers: [DevSignInController] })
export class DevSignInModule {}
