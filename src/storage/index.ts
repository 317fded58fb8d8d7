export * from './object-store.js';
export { LocalStore, LOCAL_TEMP_DIR, compareKeys } from './local-store.js';
export { S3Store, s3ClientConfig, type S3StoreOptions } from './s3-store.js';
export { openStore, parseLakeUri, InvalidLakeUri, type OpenStoreOptions, type LakeLocation } from './open-store.js';
export { FaultyStore, InjectedFault, faultPlanFromEnv, type FaultPlan, type MutatingOp } from './faulty-store.js';
