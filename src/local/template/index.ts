// The local template: recipe (e2b-template/), build into the template store, node cache.
export { buildTemplates, debianStage, pruneStore, TEMPLATE_INFO_PATH } from './build.js';
export type { ArtifactManifest, BuildOptions, BuildResult, StageBuilder, StageContext } from './build.js';
export { TemplateNotBuiltError, TemplateNotFoundError, NodeTemplateCache } from './cache.js';
export type {
  DerivedSpec,
  EnsuredTemplate,
  EnsureOptions,
  EnsurePhases,
  PhaseEvent,
  NodeTemplateCacheOptions,
} from './cache.js';
export { cacheRoot, defaultBuildDir, defaultNodeDir, defaultStoreDir } from './paths.js';
export { findRecipeDir } from '../../template/recipe-file.js';
export { loadRecipe } from './recipe.js';
export type { Recipe, TemplateSpec } from './recipe.js';
export { DirStore, openStore, StoreMissError } from './store.js';
export type { TemplateStore } from './store.js';
