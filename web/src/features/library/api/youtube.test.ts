import { describe, expect, it } from 'vitest';
import { parseYoutubeId } from './youtube';

describe('parseYoutubeId', () => {
  it.each([
    ['https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'dQw4w9WgXcQ'],
    ['https://youtu.be/dQw4w9WgXcQ?t=10', 'dQw4w9WgXcQ'],
    ['youtube.com/shorts/dQw4w9WgXcQ', 'dQw4w9WgXcQ'],
    ['https://m.youtube.com/watch?v=dQw4w9WgXcQ&list=x', 'dQw4w9WgXcQ'],
    ['https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ', 'dQw4w9WgXcQ'],
    ['dQw4w9WgXcQ', 'dQw4w9WgXcQ'],
  ])('%s', (input, id) => expect(parseYoutubeId(input)).toBe(id));

  it.each(['https://vimeo.com/123', 'https://www.youtube.com/watch?v=short', 'not a url at all', ''])('rejects %s', (input) =>
    expect(parseYoutubeId(input)).toBeNull(),
  );
});
