export { HubError, HubOfflineError, HubUnreachableError } from './errors.js';
export {
  DEFAULT_ENDPOINT,
  defaultCacheDir,
  hubOptionsFromEnv,
  type HubFileDone,
  type HubOptions,
  type HubProgress,
  type ResolvedHubOptions,
} from './options.js';
export { downloadFile, fetchFile, type FetchedFile } from './download.js';
export { repoFolderName } from './cache.js';
export {
  PUBLISHED,
  isPublishedModel,
  resolvePublishedModel,
  type PublishedFiles,
  type PublishedModel,
  type PublishedModelPaths,
  type ResolvePublishedOptions,
} from './published.js';
