export { VERSION } from '@catchment/core';
