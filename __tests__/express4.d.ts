// Express 4 is installed as the npm alias "express4" (no types of its own). The tests use
// only the API that Express 4 and 5 share, so Express 5's types describe it well enough.
declare module "express4" {
  import express from "express";
  export default express;
}
