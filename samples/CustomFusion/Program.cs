Console.WriteLine("Not implemented yet: see the open issues.");
