// The large-upload tests measure the process's allocations; another test class running alongside would be counted too.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
