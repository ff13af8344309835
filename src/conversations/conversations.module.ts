import { Module } from '@nestjs/common';
import { ConversationsRepository } from './conversations.repository';
import { ConversationsService } from './conversations.service';
import { MessagesController } from './messages.controller';
import { ThreadsController } from './threads.controller';

/** Direct threads and their messages, read pointers, receipts and unread counts. */
@Module({
  controllers: [ThreadsController, MessagesController],
  providers: [ConversationsService, ConversationsRepository],
  exports: [ConversationsService],
})
export class ConversationsModule {}
