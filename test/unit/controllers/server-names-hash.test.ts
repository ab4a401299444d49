import { describe, expect, it } from 'vitest';
import { bucketSizeSetOutside } from '../../../src/controllers/routes/system-nginx.js';
import { maxServerNameLength } from '../../../src/render/nginx-view-model.js';

describe('the system nginx server_names hash', () => {
  const dump = (main: string, ours: string) =>
    `# configuration file /etc/nginx/nginx.conf:\n${main}\n# configuration file /etc/nginx/conf.d/autoserve.conf:\n${ours}\n`;

  it('finds a bucket size set outside our file, ignoring comments and our own setting', () => {
    expect(bucketSizeSetOutside(dump('http {\n    server_names_hash_bucket_size 128;\n}', ''), '/etc/nginx/conf.d/autoserve.conf')).toBe(128);
    expect(bucketSizeSetOutside(dump('http {\n    # server_names_hash_bucket_size 64;\n}', 'server_names_hash_bucket_size 512;'), '/etc/nginx/conf.d/autoserve.conf')).toBeUndefined();
  });

  it('knows how long a name a bucket holds (64-bit nginx, cache line 64)', () => {
    expect(maxServerNameLength(64)).toBe(46);
    expect(maxServerNameLength(100)).toBe(110);
    expect(maxServerNameLength(512)).toBeGreaterThanOrEqual(253);
  });
});
