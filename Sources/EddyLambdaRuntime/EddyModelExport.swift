// A function handles Eddy's events and answers Eddy's responses: `import EddyLambdaRuntime` brings their
// types along.
@_exported import EddyModel
