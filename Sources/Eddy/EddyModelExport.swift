// The data model (items, stream records, trigger events) lives in EddyModel, which links no RocksDB so that
// a Lambda function can use it; `import Eddy` keeps bringing it along.
@_exported import EddyModel
