// Public API of the manifest module: App manifests on disk -> validated desired state.

export type * from './types.js';
export { appManifestSchema } from './schema.js';
export { applyDefaults, defaultHost } from './defaults.js';
export { validateManifest, type FieldError, type ValidatedDocument } from './validate-manifest.js';
export { parseManifestFile, type ParsedFile } from './parse-file.js';
export { loadManifestDirectory, loadManifestFiles, MAX_MANIFEST_BYTES } from './load-directory.js';
export { listManifestTree, isManifestFileName } from './list-manifest-files.js';
export { DesiredState, type ApplyResult, type DesiredStateOptions } from './desired-state.js';
export { watchManifestDirectory, type ManifestWatcher, type WatchOptions } from './watch-directory.js';
export { validatePaths, formatManifestError } from './validate-paths.js';
export { writeSchemaFile, schemaFileText } from './write-schema-file.js';
