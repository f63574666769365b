/**
 * Albums: Telegram sends each photo or video of an album (messages sharing a `media_group_id`)
 * as an update of its own, the caption (if any) on one of them. The bot answers an album once:
 * the item with the caption is answered from it, and of the items without one only the first
 * the bot sees of a group gets `replies.nonText`, and only when no item of the group was
 * answered before it; the other items are ignored (logged at debug).
 *
 * Per bot, in memory: the newest ALBUMS_REMEMBERED groups, each forgotten ALBUM_MEMORY_MS after
 * its first item (album items arrive within a second or two of each other).
 */
import type { Message } from 'grammy/types';

const ALBUMS_REMEMBERED = 1_000;
const ALBUM_MEMORY_MS = 60_000;

/** Which album items to answer. */
export interface AlbumMemory {
  /** Whether `message`, a media message without a caption, is one to answer: not part of an
   * album, or the first item of its album the bot sees. Remembers its album. */
  answersMedia(message: Message): boolean;
  /** Remembers the album of `message` (a caption answered): its other items are not answered. */
  seen(message: Message): void;
}

/** A fresh memory; `now` is the clock in ms (default Date.now). */
export function createAlbumMemory(now: () => number = Date.now): AlbumMemory {
  // Insertion order is age order: the oldest entries are the first ones.
  const albums = new Map<string, number>();
  const remember = (group: string): boolean => {
    const at = now();
    for (const [id, since] of albums) {
      if (albums.size < ALBUMS_REMEMBERED && at - since < ALBUM_MEMORY_MS) break;
      albums.delete(id);
    }
    if (albums.has(group)) return false;
    albums.set(group, at);
    return true;
  };
  return {
    answersMedia: (message) => message.media_group_id === undefined || remember(message.media_group_id),
    seen: (message) => {
      if (message.media_group_id !== undefined) remember(message.media_group_id);
    },
  };
}
