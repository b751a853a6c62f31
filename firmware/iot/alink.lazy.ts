// The Alink JSON writers (firmware/iot/alink.ts) as a lazy part (build/lazy.ts): made for each
// body or topic and dropped with it, so none of their functions is in RAM while a request is open.
import { eventPost, floatText, historyPosts, propertyPost, topics } from "./alink";

export function load(): { eventPost: typeof eventPost; floatText: typeof floatText; historyPosts: typeof historyPosts; propertyPost: typeof propertyPost; topics: typeof topics } {
  return { eventPost: eventPost, floatText: floatText, historyPosts: historyPosts, propertyPost: propertyPost, topics: topics };
}
