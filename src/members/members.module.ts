import { Module } from '@nestjs/common';
import { MeController } from './me.controller';
import { MembersRepository } from './members.repository';
import { MembersService } from './members.service';
import { ProvisioningController } from './provisioning.controller';
import { RecipientsController } from './recipients.controller';

@Module({
  controllers: [MeController, ProvisioningController, RecipientsController],
  providers: [MembersService, MembersRepository],
  exports: [MembersService],
})
export class MembersModule {}
