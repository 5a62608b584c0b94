// The example app in Chromium with sessions in Redis (`npm run example:redis`), under a key
// prefix of its own, deleted afterwards.
import { connectRedisStorage } from "../../examples/redis-storage.js";
import { deleteKeysUnder, ioredisClient, redisPort, redisUrl, uniquePrefix } from "../redis-fixtures.js";
import { serverIsUp } from "../servers.js";
import { chromiumIsInstalled } from "./chromium.js";
import { describeExampleAppInChromium } from "./example-app-in-chromium.js";

describeExampleAppInChromium(
  {
    name: "redis",
    serverSide: true,
    async start() {
      const prefix = uniquePrefix("browser");
      const redis = await connectRedisStorage(redisUrl, prefix);
      return {
        storage: redis.storage,
        storageDescription: { where: redis.description, serverSide: true },
        async close() {
          await redis.close();
          const cleaner = await ioredisClient();
          await deleteKeysUnder([cleaner], prefix);
          cleaner.disconnect();
        },
      };
    },
  },
  chromiumIsInstalled() && (await serverIsUp("Redis", redisPort)),
);
