import { Module } from '@nestjs/common';
import { MeController } from './me.controller';
import { MembersService } from './members.service';
import { ProvisioningController } from './provisioning.controller';

@Module({
  controllers: [MeController, ProvisioningController],
  providers: [MembersService],
  exports: [MembersService],
})
export class MembersModule {}
