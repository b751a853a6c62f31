// The Alink JSON writers (firmware/iot/alink.ts) as a lazy part (build/lazy.ts): made for each
// body or topic and dropped with it, so none of their functions is in RAM while a request is open.
import { eventRequest, historyPosts, propertyPost, readingText, topics } from "./alink";

export function load(): { eventRequest: typeof eventRequest; historyPosts: typeof historyPosts; propertyPost: typeof propertyPost; readingText: typeof readingText; topics: typeof topics } {
  return { eventRequest: eventRequest, historyPosts: historyPosts, propertyPost: propertyPost, readingText: readingText, topics: topics };
}
