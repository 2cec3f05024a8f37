package warehouse

// EngineMemoryLimit exposes engineMemoryLimit to the external tests.
var EngineMemoryLimit = engineMemoryLimit
